/**
 * Text in: HuggingFace tokenizer.json through DJL's tokenizers, padded token batches, and the sentence files commands read.
 */
package dev.headguard.text;
