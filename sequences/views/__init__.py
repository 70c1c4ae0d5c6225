"""The sequences app's pages, one module a page group; `public` holds the links in the emails."""
