/**
 * Hidden-state scans for implicit triggers (syntax, style): a population of inputs that moved along a
 * direction clean inputs of the same class do not take ({@code HiddenStateScan}, {@code SuspectScan},
 * {@code SuspectWords}, {@code BatchAudit}), the direction of clean texts carrying the model scan's
 * evidence ({@code CandidateDirection}), and the filter that joins it to the attention scan
 * ({@code CombinedFilter}).
 */
package dev.headguard.detect.hidden;
