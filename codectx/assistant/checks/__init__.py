"""The project's own checks, run on an applied edit: what runs here, running it, and the
trial that applies a change, checks it and puts the work tree back."""
