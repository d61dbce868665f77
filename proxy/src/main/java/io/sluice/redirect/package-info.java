/**
 * Following redirects for requests that ask to ({@code follow_redirects}):
 * {@link io.sluice.redirect.RedirectStage}, first in the pipeline, so each hop is resolved, admitted
 * and guarded again as a request of its own.
 */
package io.sluice.redirect;
