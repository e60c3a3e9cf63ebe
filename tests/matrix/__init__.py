"""The permission matrix's rows and builders; the test is tests/test_permission_matrix.py."""
