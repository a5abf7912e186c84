package dev.headguard.cli;

import java.util.List;

/**
 * Commands another module adds to {@code headguard} when its jar is on the class path (found with
 * {@link java.util.ServiceLoader}): the Spark module's {@code audit} and {@code audit-zoo}, which
 * the CLI jar does not carry.
 */
public interface CommandExtension {
    /** picocli command objects, each a {@code @Command}. */
    List<Object> commands();
}
