/**
 * Removing a backdoor: head-wise fine-tuning of the heads a scan found, with an attention safety
 * alignment term that pulls their attention on trigger-carrying inputs back to their attention on
 * the same inputs without the trigger.
 */
package dev.headguard.repair;
