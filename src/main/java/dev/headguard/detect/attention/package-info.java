/**
 * The attention input scan: a forward pass's head statistics ({@code Probe}, {@code AttentionFeatures},
 * {@code HeadSimilarity}), their clean profile ({@code CleanProfile}) and thresholds calibrated on
 * held-out clean texts ({@code InputScanner}); heatmaps for reports ({@code HeadMaps},
 * {@code LayerSimilarity}); ROC metrics and the statistics every scan shares.
 */
package dev.headguard.detect.attention;
