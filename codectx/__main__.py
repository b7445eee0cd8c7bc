"""`python -m codectx` runs the command line."""

from codectx.cli import main

if __name__ == "__main__":
    main()
