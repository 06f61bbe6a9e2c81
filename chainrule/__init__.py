"""The ``chainrule`` command line: the teaching demo and friends, on top of autograd, nn and viz."""
