package dev.headguard.cli;

import java.util.List;

/** The Spark module's commands, added to {@code headguard} when this jar is on the class path. */
public final class SparkCommands implements CommandExtension {
    @Override
    public List<Object> commands() {
        return List.of(new AuditCommand(), new AuditZooCommand());
    }
}
