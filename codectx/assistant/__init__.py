"""The assistant core that every front end drives."""
