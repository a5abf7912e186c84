/**
 * What scans hand to people and scripts: JSON whose field names are a contract, and
 * self-contained HTML pages (inline CSS and SVG, no scripts, nothing fetched).
 */
package dev.headguard.report;
