package io.sluice.batch;

import com.fasterxml.jackson.databind.node.ObjectNode;

/** Where item results go as they complete. */
interface ResultSink {
    /** Takes the result of item {@code index}; called from any thread. */
    void accept(int index, ObjectNode result);

    /** Whether more items may be started without buffering too much unwritten output. */
    boolean hasRoom();

    /** Called whenever buffered output has drained below the limit. */
    void onWritable(Runnable listener);

    /** Every item has been accepted. */
    void close();
}
