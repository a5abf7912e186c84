/**
 * Measuring attacks and defenses: clean accuracy (CACC), attack success rate (ASR) and label-flip rate, and building victim models (poison, train, evaluate) with their manifests.
 */
package dev.headguard.eval;
