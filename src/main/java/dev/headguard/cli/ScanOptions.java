package dev.headguard.cli;

import dev.headguard.HeadGuardException;
import dev.headguard.detect.attention.AttentionFeatures;
import dev.headguard.detect.attention.CleanProfile;
import dev.headguard.detect.attention.InputScanner;
import dev.headguard.text.Sample;
import dev.headguard.text.SentenceFile;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/** Options both scans share: the clean set and how inputs are scored. */
final class ScanOptions {
    @Option(names = "--clean", required = true, paramLabel = "FILE", description = "Clean texts the model is known to behave on (TSV with a 'sentence' column, or one text per line).")
    Path clean;

    @Option(names = "--clean-limit", defaultValue = "0", description = "Use a seeded sample of N clean texts (0: all).")
    int cleanLimit;

    @Option(names = "--frr", defaultValue = "0.05", description = "False-rejection rate on clean texts the threshold is set for (default: ${DEFAULT-VALUE}).")
    double frr;

    @Option(names = "--features", split = ",", description = "Head statistics: layer-cos, head-cos, cls-entropy, head-js, sep-mass, row-entropy, distance (default: layer-cos,head-cos,cls-entropy; cls-entropy alone for a decoder language model).")
    List<String> features;

    @Option(names = "--score", defaultValue = "mahalanobis", description = "mahalanobis or max-z (default: ${DEFAULT-VALUE}).")
    String score;

    @Option(names = "--shrinkage", defaultValue = "0.8", description = "Shrinkage of the clean correlation matrix toward the identity (default: ${DEFAULT-VALUE}).")
    double shrinkage;

    @Option(names = "--by-class", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "Compare each input with clean texts of its predicted class (default: ${DEFAULT-VALUE}; --no-by-class pools all clean texts).")
    boolean byClass;

    @Option(names = "--seed", defaultValue = "42", description = "Seed of the clean split and the samples (default: ${DEFAULT-VALUE}).")
    long seed;

    InputScanner.Settings settings() {
        return settings(AttentionFeatures.DEFAULT);
    }

    /** The settings for this model: without --features, its default families ({@link AttentionFeatures#defaultFor}). */
    InputScanner.Settings settings(dev.headguard.model.ModelConfig config) {
        return settings(AttentionFeatures.defaultFor(config));
    }

    private InputScanner.Settings settings(Set<AttentionFeatures.Family> defaults) {
        Set<AttentionFeatures.Family> fams;
        CleanProfile.Score s;
        try {
            fams = features == null ? defaults : EnumSet.copyOf(features.stream().map(AttentionFeatures.Family::of).toList());
            s = CleanProfile.Score.of(score);
        } catch (IllegalArgumentException e) {
            throw new HeadGuardException(e.getMessage());
        }
        return new InputScanner.Settings(fams, s, shrinkage, frr, seed, 32, byClass);
    }

    List<String> cleanTexts() {
        return cleanTexts(false);
    }

    /** @param prompts a decoder's prompts: prompt/response rows are read too ({@link dev.headguard.text.PromptResponseFile#readPrompts}) */
    List<String> cleanTexts(boolean prompts) {
        OptionChecks.atLeast("--clean-limit", cleanLimit, 0);
        List<String> t = Sample.of(prompts ? dev.headguard.text.PromptResponseFile.readPrompts(clean) : SentenceFile.readSentences(clean), cleanLimit, seed);
        if (t.size() < InputScanner.MIN_CLEAN) {
            throw new HeadGuardException(clean + ": " + t.size() + " clean texts; a scan needs at least " + InputScanner.MIN_CLEAN);
        }
        return t;
    }
}
