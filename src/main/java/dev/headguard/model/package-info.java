/**
 * The encoder: a BERT-family transformer written on DJL NDArray operations, whose every attention head can be read (attention probabilities per layer and head), scaled (a head mask) and trained on its own (gradients restricted to chosen heads). Parameters keep HuggingFace's checkpoint names.
 */
package dev.headguard.model;
