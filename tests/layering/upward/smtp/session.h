/* A header of the smtp layer, for the layering test's bad tree. */
