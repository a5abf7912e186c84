/**
 * Detection signals read from attention: how alike the heads of a layer attend (cosine of their attention maps), per layer and per head.
 */
package dev.headguard.detect;
