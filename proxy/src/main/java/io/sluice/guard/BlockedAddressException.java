package io.sluice.guard;

public final class BlockedAddressException extends java.io.IOException {
    public BlockedAddressException(String m) {
        super(m);
    }
}
