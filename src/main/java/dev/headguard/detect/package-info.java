/**
 * Detection without the trigger. Two entry points combine the signals: {@code InputAudit} (is this
 * input triggered? every input scan from one pass over the clean texts and one over the inputs) and
 * {@code ModelAudit} (does this model carry a backdoor? the trigger search, and the suspects as a
 * population when given). The signals live in sub-packages that depend in one direction,
 * {@code attention} ← {@code search} ← {@code hidden}, with {@code baseline} beside them.
 */
package dev.headguard.detect;
