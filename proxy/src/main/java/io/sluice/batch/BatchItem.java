package io.sluice.batch;

import io.sluice.fetch.FetchRequest;
import java.util.Optional;

/** One parsed item: its id, and either a request to run or the reason it cannot run. */
record BatchItem(int index, String id, Optional<FetchRequest> request, Optional<String> invalid) {
    static BatchItem valid(int index, String id, FetchRequest request) {
        return new BatchItem(index, id, Optional.of(request), Optional.empty());
    }

    static BatchItem invalid(int index, String id, String problem) {
        return new BatchItem(index, id, Optional.empty(), Optional.of(problem));
    }
}
