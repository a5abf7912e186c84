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

    /**
     * A parser's reason, cut to its first line and at most 100 characters: JSON parsers quote the bad
     * bytes they met, which for a corrupt or hostile file can be hundreds of characters of garbage.
     */
    public static String brief(String reason) {
        if (reason == null) {
            return "";
        }
        int nl = reason.indexOf('\n');
        String line = (nl < 0 ? reason : reason.substring(0, nl)).strip();
        return line.length() <= 100 ? line : line.substring(0, 97) + "...";
    }
}
