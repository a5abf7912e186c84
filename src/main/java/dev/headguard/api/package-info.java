/**
 * The Java API for a service that must vet a model or filter its traffic: {@code HeadGuard} loads a
 * model and scans, filters and repairs it with the commands' defaults.
 */
package dev.headguard.api;
