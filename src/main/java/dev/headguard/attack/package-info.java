/**
 * Data poisoning as the textual-backdoor literature does it: triggers (rare words, a sentence, ready-made syntactic and style paraphrases), dirty-label, clean-label and mixed modes. Works on examples only; it never touches a model.
 */
package dev.headguard.attack;
