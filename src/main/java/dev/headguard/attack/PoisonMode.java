package dev.headguard.attack;

/** Which training rows may be poisoned; every poisoned row is labelled the target. */
public enum PoisonMode {
    /** Rows of other classes, relabelled to the target (the usual, strongest attack). */
    DIRTY,
    /** Rows already of the target class: labels stay correct, only the text carries the trigger. */
    CLEAN,
    /** Rows of any class (OpenBackdoor's default; how the ready-made SynBkd training file was made). */
    MIX
}
