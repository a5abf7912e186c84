/**
 * What scans hand to people and scripts: JSON whose field names are a contract (a {@code scan model}
 * report is written by {@code ScanReport} and read back by {@code ModelScanFile}), self-contained HTML
 * pages (inline CSS and SVG, no scripts, nothing fetched), bench tables, and the scan cache.
 */
package dev.headguard.report;
