package dev.headguard.cli;

/** What a model is trained or evaluated for: labelling texts, or continuing prompts. */
enum Task {
    classification, generation
}
