import 'aws-sdk-client-mock-jest';
import '../../lib/local/polyfills';

// The SDK warns on Node 20 that future releases need Node 22; known and documented, not test output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
