/**
 * The benchmarks: building victim models (poison, train, evaluate, with their manifests) and the
 * defense benchmark (attacks x defenses on one clean budget, beside a clean model's floor).
 */
package dev.headguard.bench;
