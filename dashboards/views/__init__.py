"""Pages of the Novora app. Each file is one ``st.Page`` run by ``dashboards/app.py``; pages only lay out what
``dashboards.data`` returns."""
