"""Dashboard accounts: who may sign in to the app, what each may see, and how they sign in (SPEC section 1)."""
