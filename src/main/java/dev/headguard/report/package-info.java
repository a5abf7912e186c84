/**
 * What scans and benchmarks hand to people and scripts. One class owns each contract: a
 * {@code scan model} report is written and read back by {@code ModelScanFile}, a {@code scan inputs}
 * report (JSON and TSV) by {@code InputAuditReport}. {@code ModelScanPage} and {@code InputScanPage}
 * render the self-contained HTML pages (inline CSS and SVG, no scripts, nothing fetched) and the
 * terminal summaries; {@code ScanPages} holds what both pages share. Also bench tables and the scan cache.
 */
package dev.headguard.report;
