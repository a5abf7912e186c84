/**
 * The model scan's trigger search: the vocabulary ranked by gradient ({@code GradientRanking},
 * {@code Gradients}) and swept word by word ({@code VocabularySweep}) with the next words the heads react to screened ({@code AttentionScreen}), split words composed from
 * their pieces ({@code WordGrowth}), common words that flip without support ({@code UnsupportedFlips}),
 * candidates scored by flips and by the attention scan ({@code ModelScanner}), and the heads ranked
 * for the repair ({@code HeadRanking}); and a decoder's search, knowing neither trigger nor target
 * ({@code ContinuationSearch}): words screened by the next token they raise and shift
 * ({@code NextTokenScreen}), composite words paired by gradient ({@code PartnerSearch}).
 */
package dev.headguard.detect.search;
