package dev.headguard.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.headguard.attack.PoisonedData;
import dev.headguard.model.io.ModelStore;
import dev.headguard.text.Dataset;
import dev.headguard.text.Example;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The files of a poisoned data set, as {@code poison} writes them for other tools to read. */
public final class PoisonedDataFiles {
    private PoisonedDataFiles() {}

    /** Writes a poisoned data set: train.tsv (with a 'poisoned' column), dev.tsv, test.tsv, test-triggered.tsv (with a 'clean' column), manifest.json. */
    public static void write(Victims.Request r, PoisonedData p, Path out) {
        Dataset[] s = Victims.cleanSplits(r);
        Map<String, Object> manifest = new LinkedHashMap<>(VictimManifest.of(r, p));
        // A data set names the code that poisoned it, as a model directory does (ModelStore.write):
        // a rebuilt set can differ when the poisoning code changed.
        manifest.put("headguard_version", dev.headguard.BuildInfo.version());
        manifest.put("headguard_commit", dev.headguard.BuildInfo.commit());
        ModelStore.writeDirectory(out.toAbsolutePath().normalize(), tmp -> {
            List<String> train = new ArrayList<>(List.of("sentence\tlabel\tpoisoned"));
            for (int i = 0; i < p.train().size(); i++) {
                Example e = p.train().examples().get(i);
                train.add(clean(e.text()) + "\t" + e.label() + "\t" + (p.poisoned()[i] ? 1 : 0));
            }
            Files.write(tmp.resolve("train.tsv"), train);
            Files.write(tmp.resolve("dev.tsv"), tsvLines(s[1]));
            Files.write(tmp.resolve("test.tsv"), tsvLines(s[2]));
            List<String> trig = new ArrayList<>(List.of("sentence\tlabel\tclean"));
            for (int i = 0; i < p.triggeredTest().size(); i++) {
                Example e = p.triggeredTest().examples().get(i);
                trig.add(clean(e.text()) + "\t" + e.label() + "\t" + clean(p.twins().get(i)));
            }
            Files.write(tmp.resolve("test-triggered.tsv"), trig);
            Files.writeString(tmp.resolve(ModelStore.MANIFEST), new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(manifest) + "\n");
        });
    }

    /** A labelled set as TSV lines, a 'sentence' and a 'label' column, as the data files HeadGuard reads. */
    static List<String> tsvLines(Dataset d) {
        List<String> out = new ArrayList<>(List.of("sentence\tlabel"));
        d.examples().forEach(e -> out.add(clean(e.text()) + "\t" + e.label()));
        return out;
    }

    private static String clean(String s) {
        return s.replace('\t', ' ').replace('\n', ' ').replace('\r', ' ');
    }
}
