/**
 * The headguard command line: a thin layer over the Java API. Bad input exits with code 2 and one line on stderr.
 */
package dev.headguard.cli;
