//! husk-audit: rules that find insecure or broken images and Dockerfiles (work in progress).
