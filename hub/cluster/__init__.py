"""Several hub nodes sharing one estate through Redis (`[cluster]`): who pulls which camera, and proof of it."""
