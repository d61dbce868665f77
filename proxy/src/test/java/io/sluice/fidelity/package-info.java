/** Tests that what the origin said reaches the client as it was said, over every transport and form. */
package io.sluice.fidelity;
