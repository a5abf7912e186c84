package dev.headguard.report;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The attacks × defenses table of a defense benchmark, as markdown (for notes and READMEs) and as
 * a self-contained SVG chart (CACC and ASR side by side per attack, one bar per defense).
 */
public final class BenchReport {

    /** One attack under one defense; "none" is the victim as built. {@code quality}: CACC, or a decoder's perplexity. */
    public record Row(String attack, String defense, double quality, double asr, double seconds) {}

    /** What a row's quality is: a classifier's clean accuracy (a share, shown in %) or a decoder's response perplexity (lower is better). */
    public enum Quality {
        CACC("CACC", "CACC (%)"), PERPLEXITY("perplexity", "perplexity");

        private final String name;
        private final String axis;

        Quality(String name, String axis) {
            this.name = name;
            this.axis = axis;
        }

        String format(double v) {
            return this == CACC ? pct(v) : Double.isFinite(v) ? String.format(Locale.ROOT, "%.2f", v) : "–";
        }
    }

    private static final String[] COLOURS = {"#888888", "#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02"};

    private BenchReport() {}

    /**
     * @param provenance lines printed above the table (model, data, seeds, times), so a reader can rerun it
     * @param floors     attack -> clean model's ASR on the same triggered inputs (may be empty)
     */
    public static String markdown(List<String> provenance, List<Row> rows, Map<String, Double> floors) {
        return markdown(provenance, rows, floors, Quality.CACC);
    }

    /** As {@link #markdown(List, List, Map)}, with each cell's quality of the given kind. */
    public static String markdown(List<String> provenance, List<Row> rows, Map<String, Double> floors, Quality quality) {
        List<String> attacks = distinct(rows, true);
        List<String> defenses = distinct(rows, false);
        StringBuilder sb = new StringBuilder();
        provenance.forEach(l -> sb.append(l).append("\n"));
        sb.append(quality == Quality.CACC ? "\nCACC / ASR in %" : "\n" + quality.name + " / ASR in %").append(", per attack (rows) and defense (columns)");
        sb.append(floors.isEmpty() ? "" : "; floor: a clean model's ASR on the same triggered inputs").append(".\n\n");
        sb.append("| attack |");
        defenses.forEach(d -> sb.append(' ').append(d).append(" |"));
        sb.append(floors.isEmpty() ? "\n" : " floor |\n");
        sb.append("| --- |").append(" --- |".repeat(defenses.size() + (floors.isEmpty() ? 0 : 1))).append("\n");
        for (String a : attacks) {
            sb.append("| ").append(a).append(" |");
            for (String d : defenses) {
                Row r = find(rows, a, d);
                sb.append(' ').append(r == null ? "–" : quality.format(r.quality()) + " / " + pct(r.asr())).append(" |");
            }
            if (!floors.isEmpty()) {
                Double f = floors.get(a);
                sb.append(' ').append(f == null ? "–" : pct(f)).append(" |");
            }
            sb.append("\n");
        }
        sb.append("| **mean** |");
        for (String d : defenses) {
            double[] m = means(rows, d);
            sb.append(String.format(Locale.ROOT, " **%s / %s** |", quality.format(m[0]), pct(m[1])));
        }
        sb.append(floors.isEmpty() ? "\n" : " " + pct(floors.values().stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN)) + " |\n");
        sb.append("| seconds (mean) |");
        for (String d : defenses) {
            sb.append(String.format(Locale.ROOT, " %.0f |", means(rows, d)[2]));
        }
        sb.append(floors.isEmpty() ? "\n" : " |\n");
        return sb.toString();
    }

    /** Two panels (CACC, ASR), attacks along x, one bar per defense, values in %; each attack's ASR floor as a dashed line. */
    public static String svg(String title, List<Row> rows, Map<String, Double> floors) {
        return svg(title, rows, floors, Quality.CACC);
    }

    /** As {@link #svg(String, List, Map)}; a perplexity panel is scaled to the largest perplexity shown. */
    public static String svg(String title, List<Row> rows, Map<String, Double> floors, Quality quality) {
        List<String> attacks = distinct(rows, true);
        List<String> defenses = distinct(rows, false);
        int groups = attacks.size() + 1; // + mean
        double bar = 12;
        double groupWidth = bar * defenses.size() + 14;
        double panelWidth = 50 + groups * groupWidth;
        double height = 300;
        double plotTop = 50;
        double plotHeight = 190;
        double width = 2 * panelWidth + 40;
        StringBuilder s = new StringBuilder();
        s.append(String.format(Locale.ROOT, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" font-family=\"sans-serif\" font-size=\"11\">\n",
                width, height + 20 + 16.0 * ((defenses.size() + 3) / 4)));
        s.append("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
        s.append("<text x=\"10\" y=\"18\" font-size=\"14\">").append(Html.esc(title)).append("</text>\n");
        String[] metric = {quality.axis, "ASR (%)"};
        double qualityTop = quality == Quality.CACC ? 1 : niceCeiling(rows.stream().mapToDouble(Row::quality).filter(Double::isFinite).max().orElse(1));
        for (int p = 0; p < 2; p++) {
            double top = p == 0 ? qualityTop : 1;
            double x0 = 10 + p * (panelWidth + 20) + 40;
            s.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"12\">%s</text>\n", x0, plotTop - 12, metric[p]));
            for (int t = 0; t <= 100; t += 25) {
                double y = plotTop + plotHeight * (1 - t / 100.0);
                s.append(String.format(Locale.ROOT, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>", x0, y, x0 + groups * groupWidth, y));
                s.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n", x0 - 4, y + 4,
                        p == 0 && quality != Quality.CACC ? String.format(Locale.ROOT, "%.0f", top * t / 100) : String.valueOf(t)));
            }
            for (int g = 0; g < groups; g++) {
                String a = g < attacks.size() ? attacks.get(g) : "mean";
                double gx = x0 + g * groupWidth + 7;
                for (int d = 0; d < defenses.size(); d++) {
                    double v;
                    if (g < attacks.size()) {
                        Row r = find(rows, a, defenses.get(d));
                        v = r == null ? Double.NaN : p == 0 ? r.quality() : r.asr();
                    } else {
                        v = means(rows, defenses.get(d))[p];
                    }
                    if (Double.isFinite(v)) {
                        double h = plotHeight * Math.max(0, Math.min(1, v / top));
                        String shown = p == 1 || quality == Quality.CACC ? pct(v) + "%" : quality.format(v);
                        s.append(String.format(Locale.ROOT, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"><title>%s, %s: %s</title></rect>\n",
                                gx + d * bar, plotTop + plotHeight - h, bar - 1, h, COLOURS[d % COLOURS.length], Html.esc(a), Html.esc(defenses.get(d)), shown));
                    }
                }
                s.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>\n",
                        gx + bar * defenses.size() / 2, plotTop + plotHeight + 14, Html.esc(a)));
                Double floor = p == 1 && g < attacks.size() ? floors.get(a) : null;
                if (floor != null && Double.isFinite(floor)) {
                    double y = plotTop + plotHeight * (1 - Math.max(0, Math.min(1, floor)));
                    s.append(String.format(Locale.ROOT, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"black\" stroke-dasharray=\"3,2\"/>\n",
                            gx - 3, y, gx + bar * defenses.size() + 2, y));
                }
            }
        }
        if (!floors.isEmpty()) {
            s.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%.1f\">- - - ASR floor: a clean model on the same triggered inputs</text>\n",
                    panelWidth + 70, plotTop - 12));
        }
        for (int d = 0; d < defenses.size(); d++) {
            double lx = 50 + (d % 4) * 150;
            double ly = height + 4 + 16 * (d / 4);
            s.append(String.format(Locale.ROOT, "<rect x=\"%.1f\" y=\"%.1f\" width=\"10\" height=\"10\" fill=\"%s\"/><text x=\"%.1f\" y=\"%.1f\">%s</text>\n",
                    lx, ly, COLOURS[d % COLOURS.length], lx + 14, ly + 9, Html.esc(defenses.get(d))));
        }
        return s.append("</svg>\n").toString();
    }

    /** The smallest of 1, 2 or 5 times a power of ten at or above {@code v}: a perplexity axis's top. */
    static double niceCeiling(double v) {
        double p = Math.pow(10, Math.floor(Math.log10(Math.max(v, 1e-9))));
        for (double m : new double[] {1, 2, 5, 10}) {
            if (m * p >= v) {
                return m * p;
            }
        }
        return 10 * p;
    }

    /** {mean quality, mean ASR, mean seconds} of a defense over the attacks it has a finite number for. */
    static double[] means(List<Row> rows, String defense) {
        double[] sum = new double[3];
        int[] n = new int[3];
        for (Row r : rows) {
            if (r.defense().equals(defense)) {
                double[] v = {r.quality(), r.asr(), r.seconds()};
                for (int i = 0; i < 3; i++) {
                    if (Double.isFinite(v[i])) {
                        sum[i] += v[i];
                        n[i]++;
                    }
                }
            }
        }
        return new double[] {n[0] == 0 ? Double.NaN : sum[0] / n[0], n[1] == 0 ? Double.NaN : sum[1] / n[1], n[2] == 0 ? Double.NaN : sum[2] / n[2]};
    }

    private static Row find(List<Row> rows, String attack, String defense) {
        for (Row r : rows) {
            if (r.attack().equals(attack) && r.defense().equals(defense)) {
                return r;
            }
        }
        return null;
    }

    private static List<String> distinct(List<Row> rows, boolean attacks) {
        Set<String> s = new LinkedHashSet<>();
        rows.forEach(r -> s.add(attacks ? r.attack() : r.defense()));
        return new ArrayList<>(s);
    }

    static String pct(double v) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, "%.1f", 100 * v) : "–";
    }
}
