"""Sign-in, sign-out, agency registration and password reset for staff accounts."""
