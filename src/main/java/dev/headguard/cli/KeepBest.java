package dev.headguard.cli;

/** Which epoch a victim's training keeps: {@code attack --keep-best} and {@code bench --keep-best}. */
enum KeepBest {
    /** The best dev accuracy. */
    clean,
    /** The best dev accuracy plus ASR on the triggered dev split, as OpenBackdoor's attacker chooses. */
    asr
}
