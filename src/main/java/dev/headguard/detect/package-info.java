/**
 * Detection without the trigger, four jobs (sub-packages by signal are still to come):
 * <ul>
 *   <li>the attention input scan: head statistics of an input ({@code AttentionFeatures},
 *       {@code HeadSimilarity}), clean profiles ({@code CleanProfile}), calibrated thresholds
 *       ({@code InputScanner});</li>
 *   <li>the trigger search of the model scan ({@code ModelScanner}, {@code VocabularySweep},
 *       {@code UnsupportedFlips}, {@code Gradients});</li>
 *   <li>hidden-state scans of populations and directions ({@code HiddenStateScan},
 *       {@code CandidateDirection}, {@code SuspectScan}, {@code SuspectWords}, {@code BatchAudit},
 *       {@code CombinedFilter});</li>
 *   <li>the baselines STRIP and RAP, and ROC metrics.</li>
 * </ul>
 * {@code InputAudit} runs every input scan from one pass over the clean texts and one over the inputs.
 */
package dev.headguard.detect;
