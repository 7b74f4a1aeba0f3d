// The AWS SDK warns once per process that its 2027 releases will need Node 22; these machines
// run Node 20 with SDK versions that support it, so the notice is noise in test output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
