package dev.headguard;

/**
 * A problem the user can fix: a missing or corrupt file, a bad option, unusable data.
 *
 * <p>The command line prints its message as one line on stderr and exits with code 2, so the
 * message must name the file (or option) and the problem, and read well without a stack trace.
 */
public class HeadGuardException extends RuntimeException {
    public HeadGuardException(String message) {
        super(message);
    }

    public HeadGuardException(String message, Throwable cause) {
        super(message, cause);
    }
}
