package io.sluice.admin;

/** An admin request that cannot be served, as the status and error type it is answered with. */
final class AdminException extends RuntimeException {
    private final int status;
    private final String type;

    AdminException(int status, String type, String message) {
        super(message);
        this.status = status;
        this.type = type;
    }

    int status() {
        return status;
    }

    String type() {
        return type;
    }
}
