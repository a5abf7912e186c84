/**
 * Running a loaded model over many texts in batches, each in its own NDManager so that long runs stay in flat native memory; sentence embeddings by mean pooling.
 */
package dev.headguard.inference;
