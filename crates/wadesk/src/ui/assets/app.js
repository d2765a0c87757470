// The inbox front-end.
