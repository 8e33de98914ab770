"""The volunteers' own side of the platform (issue 17), phone-first: a volunteer's account sees its
own record under /my/. The pages reuse the features' services and the one scope gate (core/scope.py);
only the layout (templates/portal/base.html) is their own."""
