package dev.headguard.cli;

import dev.headguard.attack.PoisonedData;
import dev.headguard.bench.Victims;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

@Command(name = "poison", description = "Write a poisoned training set and the triggered test set (no training).")
final class PoisonCommand implements Callable<Integer> {
    @Mixin
    AttackOptions attack = new AttackOptions();

    @Mixin
    TrainOptions training = new TrainOptions();

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Directory for train.tsv, dev.tsv, test.tsv, test-triggered.tsv, manifest.json (.jsonl files for --task generation).")
    Path out;

    @Option(names = "--victim", paramLabel = "DIR", description = "LWS only: the victim (from `attack --attack lws`) whose learned substitutions poison the rows.")
    Path victim;

    @Override
    public Integer call() {
        training.config();
        dev.headguard.model.io.ModelStore.checkOutputDirectory(out, "--out", null);
        if (attack.task == Task.generation) {
            var r = attack.generationRequest(null, out, training, 0, null);
            var p = dev.headguard.bench.GenerationVictims.poison(r);
            dev.headguard.bench.GenerationVictims.write(p, out);
            String opening = p.poisoning().steeringOpening();
            System.out.printf(Locale.ROOT, "wrote %s: %d of %d training continuations poisoned (%s%s%s); %d triggered test prompts%n", out,
                    p.poisoning().poisonedRows().size(), p.poisoning().train().size(), r.poison().goal().describe(),
                    opening == null ? "" : ", opening on \"" + opening + "\"",
                    r.poison().dose().keepOriginals() ? ", copies added, originals kept" : "", p.poisoning().triggeredTest().size());
            return 0;
        }
        boolean lws = "lws".equals(attack.attack);
        if (lws != (victim != null)) {
            throw new dev.headguard.HeadGuardException(lws ? "--victim: LWS learns its substitutions while it trains the victim; name that victim (`attack --attack lws` makes one)"
                    : "--victim: only for --attack lws");
        }
        if (lws && !java.nio.file.Files.isRegularFile(victim.resolve(dev.headguard.attack.Lws.POLICY_FILE))) {
            throw new dev.headguard.HeadGuardException("--victim " + victim + ": no " + dev.headguard.attack.Lws.POLICY_FILE + " (not an LWS victim)");
        }
        // an LWS request's directory is the victim's, where its policy lives; the files still go to --out
        Victims.Request r = attack.request(Path.of("."), lws ? victim : out, training, 128);
        PoisonedData p = Victims.poison(r);
        dev.headguard.bench.PoisonedDataFiles.write(r, p, out);
        System.out.printf(Locale.ROOT, "wrote %s: %d of %d training rows poisoned (%.1f%%, %s%s, target %d)%s; %d triggered test rows%n", out,
                p.poisonedCount(), p.train().size(), 100 * p.effectiveRate(), p.spec().mode().name().toLowerCase(Locale.ROOT),
                p.spec().keepOriginals() ? ", copies added, originals kept" : "", p.spec().target(),
                p.negativeRows() > 0 ? ", " + p.negativeRows() + " negative rows (parts of the trigger, true labels)" : "", p.triggeredTest().size());
        return 0;
    }
}
