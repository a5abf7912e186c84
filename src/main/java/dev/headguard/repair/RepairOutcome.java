package dev.headguard.repair;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What a defense did: typed where a reader needs its parts (the benchmark's summary lines), and as the
 * {@code "details"} block that {@code headguard.json} and {@code bench.json} carry, whose field names
 * are a contract; each outcome builds that block in one place, {@link #details()}.
 */
public interface RepairOutcome {
    Map<String, Object> details();

    /** A baseline's outcome: nothing a reader needs typed. */
    record Plain(Map<String, Object> details) implements RepairOutcome {
        public Plain {
            details = Collections.unmodifiableMap(new LinkedHashMap<>(details));
        }
    }
}
