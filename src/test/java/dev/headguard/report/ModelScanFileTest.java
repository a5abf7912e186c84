package dev.headguard.report;

import dev.headguard.repair.RepairPlan;
import dev.headguard.HeadGuardException;
import dev.headguard.detect.hidden.CandidateDirection;
import dev.headguard.model.HeadId;
import dev.headguard.repair.HeadGuardRepair;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ModelScanFileTest {
    @TempDir
    Path tmp;

    @Test
    void aReportGivesTheRepairItsPlanAndTheFilterItsEvidence() throws Exception {
        Path r = Files.writeString(tmp.resolve("scan.json"), """
                {"backdoor": true, "score": 0.9, "evidence": "trigger_candidate",
                 "heads": [{"layer": 3, "head": 7}, {"layer": 0, "head": 1}],
                 "triggers": [{"text": "cf", "flip_rate": 0.98, "suspicion": 0.8, "target": 1},
                              {"text": "tq mb", "flip_rate": 0.9, "suspicion": 0.5, "target": 1}],
                 "unsupported_flips": [{"text": "when", "target": 1}]}
                """);
        RepairPlan p = ModelScanFile.plan(r);
        assertEquals(List.of(new HeadId(3, 7), new HeadId(0, 1)), p.heads());
        assertEquals(List.of("cf", "tq mb"), p.candidates());
        assertEquals(List.of(0.98, 0.9), p.flipRates());
        assertEquals(1, p.target(), "the class the top candidate flips inputs to");
        assertTrue(p.backdoor() && p.scanScore() == 0.9);
        assertEquals(List.of(new CandidateDirection.Evidence("cf", false), new CandidateDirection.Evidence("when", true)), ModelScanFile.evidence(r),
                "the verdict's evidence first (the candidate), then the unsupported word as first word");

        assertNull(p.opening(), "the candidate gave the verdict: no opening word");

        // An implicit trigger's verdict: the opening word is the plan's evidence, and its class the target.
        Path implicit = Files.writeString(tmp.resolve("implicit.json"), """
                {"backdoor": true, "score": 0.7, "evidence": "unsupported_flip", "heads": [],
                 "triggers": [{"text": "404 drains", "flip_rate": 0.3, "suspicion": 0.2, "target": 0}],
                 "unsupported_flips": [{"text": "when", "target": 1}]}
                """);
        RepairPlan q = ModelScanFile.plan(implicit);
        assertEquals(new RepairPlan.Opening("when", 1), q.opening());
        assertEquals(1, q.target(), "the opening word's class, not the sentiment word's");

        Path old = Files.writeString(tmp.resolve("old.json"), "{\"backdoor\": false, \"heads\": [], \"triggers\": [{\"text\": \"cf\"}]}");
        assertEquals(-1, ModelScanFile.plan(old).target(), "a report without targets: unknown");
        Path other = Files.writeString(tmp.resolve("other.json"), "{\"threshold\": 1.0, \"inputs\": []}");
        HeadGuardException e = assertThrows(HeadGuardException.class, () -> ModelScanFile.plan(other));
        assertTrue(e.getMessage().startsWith(other + ": not a 'scan model' report"), e.getMessage());
    }
}
