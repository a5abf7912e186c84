/**
 * Fine-tuning: AdamW with decoupled decay, the linear schedule, a seeded and resumable trainer with finiteness checks and global-norm clipping, checkpoints, and embedding poisoning (a weight-level attack that trains one embedding row).
 */
package dev.headguard.train;
