/**
 * Measuring a model against an attack: clean accuracy (CACC), attack success rate (ASR) and
 * label-flip rate.
 */
package dev.headguard.eval;
