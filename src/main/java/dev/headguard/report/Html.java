package dev.headguard.report;

import java.util.Locale;

/** Pieces of a self-contained HTML page: escaping, inline SVG heatmaps, highlighted tokens. No scripts, no external files. */
final class Html {
    private Html() {}

    static final String STYLE = """
            body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px auto;max-width:1180px;color:#1d2330;background:#fbfbfd;padding:0 16px}
            h1{font-size:24px;margin:0 0 4px} h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #dde;padding-bottom:4px}
            .meta{color:#5a6275;font-size:13px}
            .verdict{padding:14px 18px;border-radius:8px;margin:16px 0;font-size:16px}
            .bad{background:#fde8e8;border:1px solid #f3b4b4} .good{background:#e7f6ea;border:1px solid #a9dcb4}
            table{border-collapse:collapse;font-size:13px;margin:6px 0} th,td{padding:4px 10px;border-bottom:1px solid #e4e6ee;text-align:right}
            th{background:#f0f2f8} td.l,th.l{text-align:left}
            .maps{display:flex;flex-wrap:wrap;gap:18px} .map{background:#fff;border:1px solid #e4e6ee;border-radius:6px;padding:8px}
            .map h3{font-size:13px;margin:0 0 6px;font-weight:600}
            .tok{display:inline-block;padding:1px 3px;margin:1px;border-radius:3px;font-family:ui-monospace,Menlo,Consolas,monospace;font-size:13px}
            .ex{margin:8px 0;padding:8px;background:#fff;border:1px solid #e4e6ee;border-radius:6px}
            .note{font-size:13px;color:#5a6275;max-width:900px}
            """;

    static String esc(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (char c : s.toCharArray()) {
            switch (c) {
                case '<' -> b.append("&lt;");
                case '>' -> b.append("&gt;");
                case '&' -> b.append("&amp;");
                case '"' -> b.append("&quot;");
                case '\'' -> b.append("&#39;");
                default -> b.append(c);
            }
        }
        return b.toString();
    }

    static String f(double v, int digits) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, "%." + digits + "f", v) : "n/a";
    }

    /** White (0) to deep blue (1); values outside [0, 1] are clipped. */
    static String blue(double v) {
        double t = Math.max(0, Math.min(1, v));
        int r = (int) Math.round(255 - t * (255 - 23));
        int g = (int) Math.round(255 - t * (255 - 63));
        int b = (int) Math.round(255 - t * (255 - 145));
        return String.format(Locale.ROOT, "rgb(%d,%d,%d)", r, g, b);
    }

    /** Blue for negative, red for positive, white at 0; |v| = scale is full colour. */
    static String diverging(double v, double scale) {
        double t = Math.max(-1, Math.min(1, v / scale));
        int a = (int) Math.round(255 * (1 - Math.abs(t)));
        return t >= 0 ? String.format(Locale.ROOT, "rgb(255,%d,%d)", a, a) : String.format(Locale.ROOT, "rgb(%d,%d,255)", a, a);
    }

    /** An N×N heatmap as inline SVG, head indices on both axes, the value in each cell's tooltip. */
    static String heatmap(double[][] m, boolean diff, double diffScale) {
        int n = m.length;
        int cell = n <= 12 ? 16 : Math.max(6, 192 / n);
        int pad = 18;
        int size = pad + n * cell;
        StringBuilder s = new StringBuilder();
        s.append(String.format(Locale.ROOT, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" font-size=\"9\" font-family=\"sans-serif\">", size, size));
        for (int i = 0; i < n; i++) {
            if (n <= 16 || i % 2 == 0) {
                s.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"12\" text-anchor=\"middle\">%d</text>", pad + i * cell + cell / 2, i));
                s.append(String.format(Locale.ROOT, "<text x=\"14\" y=\"%d\" text-anchor=\"end\">%d</text>", pad + i * cell + cell / 2 + 3, i));
            }
            for (int j = 0; j < n; j++) {
                String fill = diff ? diverging(m[i][j], diffScale) : blue(m[i][j]);
                s.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"%s\"><title>heads %d,%d: %.3f</title></rect>",
                        pad + j * cell, pad + i * cell, cell, cell, fill, i, j, m[i][j]));
            }
        }
        s.append("</svg>");
        return s.toString();
    }

    /** Tokens on a yellow-to-red background by weight in [0, 1]. */
    static String tokens(java.util.List<String> tokens, double[] weight) {
        StringBuilder s = new StringBuilder();
        for (int k = 0; k < tokens.size(); k++) {
            double w = k < weight.length ? weight[k] : 0;
            int g = (int) Math.round(255 - 170 * w);
            int b = (int) Math.round(255 - 235 * w);
            s.append(String.format(Locale.ROOT, "<span class=\"tok\" style=\"background:rgb(255,%d,%d)\" title=\"%.3f\">%s</span>", g, b, w, esc(tokens.get(k))));
        }
        return s.toString();
    }

    /** A histogram of two score sets as inline SVG with the threshold marked. */
    static String histogram(double[] clean, double[] other, double threshold, String cleanLabel, String otherLabel) {
        double lo = Double.MAX_VALUE;
        double hi = -Double.MAX_VALUE;
        for (double[] a : new double[][] {clean, other}) {
            for (double v : a) {
                lo = Math.min(lo, v);
                hi = Math.max(hi, v);
            }
        }
        // Range: up to the 99th percentile (or a little past the threshold), so that a few extreme
        // scores do not squeeze everything else into one bar; higher ones land in the last bin.
        double[] all = new double[clean.length + other.length];
        System.arraycopy(clean, 0, all, 0, clean.length);
        System.arraycopy(other, 0, all, clean.length, other.length);
        java.util.Arrays.sort(all);
        if (all.length > 0) {
            hi = Math.min(hi, all[(int) Math.floor(0.99 * (all.length - 1))]);
        }
        lo = Math.min(lo, threshold);
        hi = Math.max(hi, threshold * 1.25 - 0.25 * lo);
        if (!(hi > lo)) {
            hi = lo + 1;
        }
        int bins = 40;
        int w = 640;
        int h = 160;
        double[][] counts = new double[2][bins];
        double[][] sets = {clean, other};
        double top = 1e-9;
        for (int k = 0; k < 2; k++) {
            for (double v : sets[k]) {
                int b = (int) Math.max(0, Math.min(bins - 1, Math.floor((v - lo) / (hi - lo) * bins)));
                counts[k][b] += 1.0 / Math.max(1, sets[k].length);
            }
            for (double c : counts[k]) {
                top = Math.max(top, c);
            }
        }
        StringBuilder s = new StringBuilder(String.format(Locale.ROOT,
                "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" font-size=\"11\" font-family=\"sans-serif\">", w, h + 30));
        String[] colour = {"rgba(46,125,50,0.55)", "rgba(198,40,40,0.55)"};
        for (int k = 0; k < 2; k++) {
            for (int b = 0; b < bins; b++) {
                double bh = counts[k][b] / top * h;
                s.append(String.format(Locale.ROOT, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"/>",
                        b * (double) w / bins, h - bh, (double) w / bins - 1, bh, colour[k]));
            }
        }
        double tx = (threshold - lo) / (hi - lo) * w;
        s.append(String.format(Locale.ROOT, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"0\" y2=\"%d\" stroke=\"#222\" stroke-dasharray=\"4 3\"/>", tx, tx, h));
        s.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">threshold %.3g</text>", tx, h + 12, threshold));
        s.append(String.format(Locale.ROOT, "<text x=\"0\" y=\"%d\" fill=\"#2e7d32\">■ %s (%d)</text>", h + 26, esc(cleanLabel), clean.length));
        s.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" fill=\"#c62828\">■ %s (%d)</text>", w / 2, h + 26, esc(otherLabel), other.length));
        s.append(String.format(Locale.ROOT, "<text x=\"0\" y=\"10\">%.3g</text><text x=\"%d\" y=\"10\" text-anchor=\"end\">≥ %.3g</text>", lo, w, hi));
        s.append("</svg>");
        return s.toString();
    }
}
